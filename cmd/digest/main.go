// Command digest turns a news portal's articles into personal weekly email
// digests. See the README for the commands and their configuration.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // Europe/Berlin must resolve on machines without zoneinfo

	"github.com/kommune21/digest/digest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if limit := digest.MemoryLimitFor(os.Getenv); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// run is the whole program; tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	a := &app{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	err := a.dispatch(args)
	a.close()
	if err != nil && exitCode(err) != 0 {
		a.printError(err)
	}
	return err
}
