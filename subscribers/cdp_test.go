package subscribers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// browser drives headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, answers on fd 4, each message
// JSON ended by a NUL byte). It is just enough protocol for typing, pressing
// keys, reading the DOM and taking screenshots; no library needed.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      *os.File // we write commands
	out     *bufio.Reader
	session string
	mu      sync.Mutex
	id      int
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, chromiumPath, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe", "--user-data-dir="+t.TempDir(), "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, resW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	cmdR.Close()
	resW.Close()
	b := &browser{t: t, cmd: cmd, in: cmdW, out: bufio.NewReader(resR)}
	t.Cleanup(func() {
		b.in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		cancel()
		resR.Close()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("chromium stderr (last 2 KB): %s", tail(stderr.String(), 2048))
		}
	})
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.browserCall("Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	b.browserCall("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	b.call("Page.enable", nil, nil)
	b.call("Runtime.enable", nil, nil)
	return b
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (b *browser) browserCall(method string, params any, result any) {
	b.t.Helper()
	b.send("", method, params, result)
}

func (b *browser) call(method string, params any, result any) {
	b.t.Helper()
	b.send(b.session, method, params, result)
}

func (b *browser) send(session, method string, params any, result any) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.id++
	msg := map[string]any{"id": b.id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, _ := json.Marshal(msg)
	if _, err := b.in.Write(append(data, 0)); err != nil {
		b.t.Fatalf("cdp %s: %v", method, err)
	}
	for {
		raw, err := b.out.ReadBytes(0)
		if err != nil {
			b.t.Fatalf("cdp %s: reading the answer: %v", method, err)
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(raw[:len(raw)-1], &resp); err != nil {
			b.t.Fatalf("cdp %s: %v", method, err)
		}
		if resp.ID != b.id {
			continue // an event or another answer
		}
		if resp.Error != nil {
			b.t.Fatalf("cdp %s: %s", method, resp.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(resp.Result, result); err != nil {
				b.t.Fatalf("cdp %s result: %v", method, err)
			}
		}
		return
	}
}

// eval runs a JavaScript expression in the page and decodes its value into v.
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("eval %s: %s", expr, res.ExceptionDetails.Text)
	}
	if v != nil {
		if err := json.Unmarshal(res.Result.Value, v); err != nil {
			b.t.Fatalf("eval %s = %s: %v", expr, res.Result.Value, err)
		}
	}
}

func (b *browser) evalString(expr string) string {
	b.t.Helper()
	var s string
	b.eval(expr, &s)
	return s
}

// navigate loads url and waits until the new document is complete.
func (b *browser) navigate(url string) {
	b.t.Helper()
	b.markDocument()
	b.call("Page.navigate", map[string]any{"url": url}, nil)
	b.waitNewDocument()
}

// markDocument tags the current document so waitNewDocument sees it replaced.
func (b *browser) markDocument() { b.eval(`window.__old = true`, nil) }

func (b *browser) waitNewDocument() {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		b.eval(`window.__old === undefined && document.readyState === "complete"`, &ok)
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatal("timed out waiting for the next page")
}

// key presses a key: "Tab", "Enter", " " (space), "Backspace".
func (b *browser) key(k string) {
	b.t.Helper()
	codes := map[string]struct {
		code string
		vk   int
		text string
	}{"Tab": {"Tab", 9, ""}, "Enter": {"Enter", 13, "\r"}, " ": {"Space", 32, " "}}
	c, ok := codes[k]
	if !ok {
		b.t.Fatalf("key %q unknown", k)
	}
	down := map[string]any{"type": "keyDown", "key": k, "code": c.code, "windowsVirtualKeyCode": c.vk}
	if c.text != "" {
		down["text"] = c.text
	}
	b.call("Input.dispatchKeyEvent", down, nil)
	b.call("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": k, "code": c.code, "windowsVirtualKeyCode": c.vk}, nil)
}

// typeText types into the focused element.
func (b *browser) typeText(s string) {
	b.t.Helper()
	b.call("Input.insertText", map[string]any{"text": s}, nil)
}

// focused describes document.activeElement as "id" or "tag:text".
func (b *browser) focused() string {
	b.t.Helper()
	return b.evalString(`(() => { const e = document.activeElement; if (!e) return ""; return e.id || (e.tagName.toLowerCase() + ":" + e.textContent.trim()); })()`)
}

// screenshot writes a PNG of the whole page at the given window width.
func (b *browser) screenshot(path string, width int, mobile bool) {
	b.screenshotTop(path, width, mobile, 0)
}

// screenshotTop writes a PNG of the top height pixels (0 = the whole page).
func (b *browser) screenshotTop(path string, width int, mobile bool, height float64) {
	b.t.Helper()
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile}, nil)
	var h float64
	b.eval(`document.documentElement.scrollHeight`, &h)
	if height > 0 && height < h {
		h = height
	}
	var shot struct {
		Data string `json:"data"`
	}
	b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": width, "height": h, "scale": 1}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) < 5000 {
		b.t.Fatalf("screenshot %s: %d bytes, %v", path, len(png), err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) setWidth(width int, mobile bool) {
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile}, nil)
}
