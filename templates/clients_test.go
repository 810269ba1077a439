package templates

import (
	"bytes"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// These tests check what makes the mails render alike in mail clients that
// support little CSS (see doc.go, "Mail clients"): spacing without margins,
// links that are told apart without colour, no local anchors, and text
// contrast of at least 4.5:1 (WCAG AA) in the light scheme and in the dark
// scheme of the prefers-color-scheme rules, computed from the rendered HTML.

func renderedMails(t *testing.T) map[string][]byte {
	t.Helper()
	s := mustNew(t)
	var h, x bytes.Buffer
	mustPrepare(t, s, goldenDigest()).Render(goldenRecipient(), &h, &x)
	_, _, confirm, err := s.Confirmation("Erika Mustermann", "erika@example.org", "https://digest.kommune21.example/confirm?t=1")
	if err != nil {
		t.Fatal(err)
	}
	web, err := s.WebView(goldenDigest())
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"digest": h.Bytes(), "confirm": []byte(confirm), "webview": web}
}

func TestMails_NoMarginsNoAnchorsUnderlinedLinks(t *testing.T) {
	for name, doc := range renderedMails(t) {
		root, err := xhtml.Parse(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		walk(root, func(n *xhtml.Node) {
			st := parseDecls(attrVal(n, "style"))
			if m, ok := st["margin"]; ok && m != "0" {
				t.Errorf("%s: <%s> has margin %q: space with padding in table cells", name, n.Data, m)
			}
			for k := range st {
				if strings.HasPrefix(k, "margin-") {
					t.Errorf("%s: <%s> has %s", name, n.Data, k)
				}
			}
			if n.Data != "a" {
				return
			}
			if href := attrVal(n, "href"); strings.HasPrefix(href, "#") {
				t.Errorf("%s: local anchor %q (few mail clients follow them)", name, href)
			}
			if st["text-decoration"] == "none" && attrVal(n, "class") != "button" {
				t.Errorf("%s: link %q is not underlined: links must be told apart without colour", name, text(n))
			}
		})
	}
}

func TestMails_Contrast(t *testing.T) {
	for name, doc := range renderedMails(t) {
		root, err := xhtml.Parse(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		dark := darkRules(t, headCSSOf(root))
		if len(dark) == 0 {
			t.Fatalf("%s: no prefers-color-scheme: dark rules", name)
		}
		checked := 0
		for _, scheme := range []string{"light", "dark"} {
			walk(root, func(n *xhtml.Node) {
				if n.Type != xhtml.TextNode || strings.TrimSpace(n.Data) == "" || !inBody(n) || hidden(n) {
					return
				}
				var rules []darkRule
				if scheme == "dark" {
					rules = dark
				}
				fg := inherited(n.Parent, "color", rules)
				bg := inherited(n.Parent, "background-color", rules)
				if fg == "" || bg == "" {
					t.Errorf("%s %s: %q has no colour or background of its own (fg %q, bg %q): the client's default decides", name, scheme, clip(n.Data), fg, bg)
					return
				}
				checked++
				if c := contrast(t, fg, bg); c < 4.5 {
					t.Errorf("%s %s: %q is %s on %s, contrast %.2f:1, want at least 4.5:1", name, scheme, clip(n.Data), fg, bg, c)
				}
			})
		}
		if checked < 20 {
			t.Errorf("%s: only %d text nodes checked", name, checked)
		}
	}
}

func walk(n *xhtml.Node, fn func(*xhtml.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func text(n *xhtml.Node) string {
	var b strings.Builder
	walk(n, func(c *xhtml.Node) {
		if c.Type == xhtml.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func inBody(n *xhtml.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == xhtml.ElementNode && (p.Data == "body") {
			return true
		}
	}
	return false
}

func hidden(n *xhtml.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == xhtml.ElementNode && parseDecls(attrVal(p, "style"))["display"] == "none" {
			return true
		}
	}
	return false
}

func parseDecls(style string) map[string]string {
	m := map[string]string{}
	for _, d := range strings.Split(style, ";") {
		k, v, ok := strings.Cut(d, ":")
		if ok {
			m[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
		}
	}
	return m
}

func headCSSOf(root *xhtml.Node) string {
	var b strings.Builder
	walk(root, func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && n.Data == "style" && n.FirstChild != nil {
			b.WriteString(n.FirstChild.Data)
		}
	})
	return b.String()
}

// darkRule is one selector of the dark-scheme block: ".a", ".a tag" or ".a .b".
type darkRule struct {
	parts       []string
	decls       map[string]string
	specificity int
	order       int
}

var darkBlock = regexp.MustCompile(`@media \(prefers-color-scheme: ?dark\)\s*\{`)

func darkRules(t *testing.T, css string) []darkRule {
	loc := darkBlock.FindStringIndex(css)
	if loc == nil {
		return nil
	}
	body := css[loc[1]:]
	var rules []darkRule
	for {
		open := strings.IndexByte(body, '{')
		end := strings.IndexByte(body, '}')
		if open < 0 || end < open {
			break // the closing brace of the media block
		}
		decls := parseDecls(body[open+1 : end])
		for _, sel := range strings.Split(body[:open], ",") {
			parts := strings.Fields(sel)
			spec := 0
			for _, p := range parts {
				if !strings.HasPrefix(p, ".") && !regexp.MustCompile(`^[a-z0-9]+$`).MatchString(p) {
					t.Fatalf("dark rule selector %q: the test understands only classes and tags", sel)
				}
				if strings.HasPrefix(p, ".") {
					spec += 10
				} else {
					spec++
				}
			}
			rules = append(rules, darkRule{parts: parts, decls: decls, specificity: spec, order: len(rules)})
		}
		body = body[end+1:]
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].specificity < rules[j].specificity })
	return rules
}

func matches(n *xhtml.Node, simple string) bool {
	if c, ok := strings.CutPrefix(simple, "."); ok {
		return strings.Contains(" "+attrVal(n, "class")+" ", " "+c+" ")
	}
	return n.Data == simple
}

func (r darkRule) matches(n *xhtml.Node) bool {
	if !matches(n, r.parts[len(r.parts)-1]) {
		return false
	}
	i := len(r.parts) - 2
	for p := n.Parent; p != nil && i >= 0; p = p.Parent {
		if p.Type == xhtml.ElementNode && matches(p, r.parts[i]) {
			i--
		}
	}
	return i < 0
}

// own is the value of prop set on n itself: inline style, a bgcolor
// attribute, then the dark rules (all !important) by specificity.
func own(n *xhtml.Node, prop string, rules []darkRule) string {
	v := parseDecls(attrVal(n, "style"))[prop]
	if prop == "background-color" && v == "" {
		v = attrVal(n, "bgcolor")
	}
	for _, r := range rules {
		if d, ok := r.decls[prop]; ok && r.matches(n) {
			v = d
		}
	}
	return v
}

// inherited is prop's value on n: its own, or the nearest ancestor's (for
// background-color: what shows through).
func inherited(n *xhtml.Node, prop string, rules []darkRule) string {
	for p := n; p != nil; p = p.Parent {
		if p.Type == xhtml.ElementNode {
			if v := own(p, prop, rules); v != "" {
				return v
			}
		}
	}
	return ""
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(t *testing.T, hex string) float64 {
	h := strings.TrimPrefix(hex, "#")
	if len(h) != 6 {
		t.Fatalf("colour %q: want #rrggbb", hex)
	}
	var rgb [3]float64
	for i := range rgb {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		c := float64(v) / 255
		if c <= 0.03928 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}

// TestText_Tidy: the plain-text part wraps at 72 columns (a URL alone on its
// line may be longer), numbers the contents and puts every URL in angle
// brackets on a line of its own.
func TestText_Tidy(t *testing.T) {
	s := mustNew(t)
	var h, x bytes.Buffer
	mustPrepare(t, s, bigDigest(30)).Render(goldenRecipient(), &h, &x)
	_, confirm, _, err := s.Confirmation("Erika Mustermann", "erika@example.org", "https://digest.kommune21.example/confirm?t=1")
	if err != nil {
		t.Fatal(err)
	}
	lone := regexp.MustCompile(`^<(https?|mailto):[^ <>]+>$`)
	for name, part := range map[string]string{"digest": x.String(), "confirm": confirm} {
		for i, line := range strings.Split(part, "\n") {
			if strings.Contains(line, "://") && !lone.MatchString(line) {
				t.Errorf("%s line %d: a URL not alone in angle brackets: %q", name, i+1, line)
			}
			if n := len([]rune(line)); n > textWidth && !lone.MatchString(line) {
				t.Errorf("%s line %d is %d columns: %q", name, i+1, n, line)
			}
		}
	}
	toc, _, _ := strings.Cut(strings.SplitN(x.String(), "Inhalt\n======\n", 2)[1], "\n\n")
	numbered := regexp.MustCompile(`^ ?\d+\. `)
	n := 0
	for _, line := range strings.Split(toc, "\n") {
		if numbered.MatchString(line) {
			n++
		}
	}
	if n != 30 {
		t.Errorf("contents has %d numbered entries, want 30:\n%s", n, toc)
	}
}
