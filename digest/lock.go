package digest

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrSenderBusy means another process is sending from the same SQLite database.
var ErrSenderBusy = errors.New("another digest process is sending from this SQLite database")

// lockSender takes the SQLite sender lock: an exclusive advisory lock on a file
// beside the database, released by the kernel when the process ends, however it ends.
func lockSender(dbPath string) (unlock func(), err error) {
	name := dbPath + ".send.lock"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sender lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (lock %s): wait for it to finish, or use PostgreSQL for several senders", ErrSenderBusy, name)
		}
		return nil, fmt.Errorf("sender lock %s: %w", name, err)
	}
	return func() { f.Close() }, nil
}
