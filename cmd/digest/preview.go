package main

func cmdPreview(a *app, args []string) error { return errNotImplemented }
