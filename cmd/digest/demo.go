package main

func cmdDemo(a *app, args []string) error { return errNotImplemented }
