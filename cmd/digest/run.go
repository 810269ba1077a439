package main

func cmdRun(a *app, args []string) error      { return errNotImplemented }
func cmdRunsList(a *app, args []string) error { return errNotImplemented }
func cmdRunsShow(a *app, args []string) error { return errNotImplemented }
