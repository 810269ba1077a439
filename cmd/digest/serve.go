package main

func cmdServe(a *app, args []string) error { return errNotImplemented }
