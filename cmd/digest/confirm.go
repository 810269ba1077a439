package main

import "github.com/kommune21/digest/subscribers"

// sendConfirmation sends the double opt-in email to a pending subscriber.
func (a *app) sendConfirmation(sub subscribers.Subscriber) error { return errNotImplemented }
