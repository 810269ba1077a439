package topicmodel

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Model is a one-vs-rest logistic regression over the Features of a text: for
// each topic, P(topic | text) = σ(bias + Σ weight(feature) / √n) for the n
// features of the text. It is immutable after Parse or Train and safe for
// concurrent use.
type Model struct {
	Topics    []string
	Threshold float64   // a topic is given when its probability reaches this
	Topic     []float64 // per topic: its own threshold, 0 for the global one
	Bias      []float64 // per topic
	Header    []string  // comment lines saying how the model was made
	weights   map[string][]weight
}

type weight struct {
	topic int
	w     float64
}

// Score is a topic's probability for a text and the features that raised it most.
type Score struct {
	Topic    string
	P        float64
	Evidence []string // up to three features that raised it, words before n-grams ("…onli…")
}

// Scores returns every topic's score for text, highest first (ties in topic order).
func (m *Model) Scores(text string) []Score {
	feats := Features(text)
	sum := slices.Clone(m.Bias)
	// the three words and three n-grams with the most weight, per topic
	type contrib struct {
		f string
		w float64
	}
	words := make([][3]contrib, len(m.Topics))
	grams := make([][3]contrib, len(m.Topics))
	keep := func(top *[3]contrib, c contrib) {
		for i := range top {
			if c.w > top[i].w {
				copy(top[i+1:], top[i:2])
				top[i] = c
				return
			}
		}
	}
	norm := 1 / math.Sqrt(float64(max(len(feats), 1)))
	for _, f := range feats {
		for _, w := range m.weights[f] {
			sum[w.topic] += w.w * norm
			if w.w > 0 {
				if strings.HasPrefix(f, "g:") {
					keep(&grams[w.topic], contrib{f, w.w})
				} else {
					keep(&words[w.topic], contrib{f, w.w})
				}
			}
		}
	}
	out := make([]Score, len(m.Topics))
	for k, slug := range m.Topics {
		// words and acronyms say more to a reader than character n-grams
		var ev []string
		for _, c := range append(words[k][:], grams[k][:]...) {
			if len(ev) == 3 || c.f == "" {
				continue
			}
			kind, name, _ := strings.Cut(c.f, ":")
			if kind == "g" {
				name = "…" + strings.Trim(name, "<>") + "…"
			}
			ev = append(ev, name)
		}
		out[k] = Score{Topic: slug, P: 1 / (1 + math.Exp(-sum[k])), Evidence: ev}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].P > out[j].P })
	return out
}

// ThresholdOf is the probability at which topic is given: its own threshold
// when it has one, else the global one.
func (m *Model) ThresholdOf(topic string) float64 {
	if i := slices.Index(m.Topics, topic); i >= 0 && m.Topic[i] > 0 {
		return m.Topic[i]
	}
	return m.Threshold
}

// Size is the number of features the model knows.
func (m *Model) Size() int { return len(m.weights) }

// Example is one labelled text for Train.
type Example struct {
	Text   string
	Topics []string
}

// Options are the training parameters.
type Options struct {
	L2        float64            // L2 penalty per example
	Epochs    int                // full-batch gradient steps
	Rate      float64            // step size
	MinDF     int                // features seen in fewer examples are dropped
	PosWeight float64            // weight of positive examples (≥ 1 counters rare topics)
	Threshold float64            // written into the model
	MinWeight float64            // smaller weights are dropped (keeps the model small)
	Topic     map[string]float64 // per-topic thresholds by slug, written into the model (others: Threshold)
}

// DefaultOptions are the parameters `make train` uses.
func DefaultOptions() Options {
	// No topic has its own threshold: personal-organisation's 0.35 (chosen on
	// the 369-item corpus) lost on the 469/202 one (see articles/doc.go).
	return Options{L2: 0.0003, Epochs: 1000, Rate: 2, MinDF: 2, PosWeight: 2, Threshold: 0.5, MinWeight: 0.05}
}

// Train fits a model for topics on examples. It is deterministic: the same
// examples and options give the same model.
func Train(examples []Example, topics []string, o Options) *Model {
	df := map[string]int{}
	docs := make([][]string, len(examples))
	for i, ex := range examples {
		docs[i] = Features(ex.Text)
		for _, f := range docs[i] {
			df[f]++
		}
	}
	var vocab []string
	for f, n := range df {
		if n >= o.MinDF {
			vocab = append(vocab, f)
		}
	}
	sort.Strings(vocab)
	index := map[string]int{}
	for i, f := range vocab {
		index[f] = i
	}
	ds := make([]doc, len(examples))
	for i, ex := range examples {
		d := doc{norm: 1 / math.Sqrt(float64(max(len(docs[i]), 1))), y: make([]bool, len(topics))}
		for _, f := range docs[i] {
			if j, ok := index[f]; ok {
				d.idx = append(d.idx, j)
			}
		}
		for k, t := range topics {
			d.y[k] = slices.Contains(ex.Topics, t)
		}
		ds[i] = d
	}
	m := &Model{Topics: slices.Clone(topics), Threshold: o.Threshold, Topic: make([]float64, len(topics)), Bias: make([]float64, len(topics)), weights: map[string][]weight{}}
	n := float64(max(len(ds), 1))
	// the topics are fitted independently, GOMAXPROCS at a time, and merged
	// in topic order: the model is the same as one fitted topic by topic
	ws := make([][]float64, len(topics))
	bs := make([]float64, len(topics))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for k := range topics {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ws[k], bs[k] = fitTopic(ds, k, len(vocab), n, o)
		}()
	}
	wg.Wait()
	for k, t := range topics {
		m.Topic[k] = o.Topic[t]
		m.Bias[k] = round(bs[k])
		for j, f := range vocab {
			if r := round(ws[k][j]); r != 0 && math.Abs(r) >= o.MinWeight {
				m.weights[f] = append(m.weights[f], weight{k, r})
			}
		}
	}
	return m
}

// doc is a training example: the indexes of its features in the vocabulary,
// its norm and its labels per topic.
type doc struct {
	idx  []int
	norm float64
	y    []bool
}

// fitTopic fits topic k's weights over a vocabulary of nv features and its
// bias by full-batch gradient descent (n is the number of examples).
func fitTopic(ds []doc, k, nv int, n float64, o Options) ([]float64, float64) {
	w := make([]float64, nv)
	g := make([]float64, nv)
	b := 0.0
	for range o.Epochs {
		clear(g)
		gb := 0.0
		for _, d := range ds {
			z := b
			for _, j := range d.idx {
				z += w[j] * d.norm
			}
			p := 1 / (1 + math.Exp(-z))
			y, c := 0.0, 1.0
			if d.y[k] {
				y, c = 1, o.PosWeight
			}
			e := c * (p - y)
			gb += e
			for _, j := range d.idx {
				g[j] += e * d.norm
			}
		}
		for j := range w {
			w[j] -= o.Rate * (g[j]/n + o.L2*w[j])
		}
		b -= o.Rate * gb / n
	}
	return w, b
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// Write writes the model in its text form (see Parse).
func (m *Model) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, h := range m.Header {
		fmt.Fprintf(bw, "# %s\n", h)
	}
	fmt.Fprintf(bw, "topics\t%s\n", strings.Join(m.Topics, " "))
	fmt.Fprintf(bw, "threshold\t%s\n", fnum(m.Threshold))
	var fl []string
	for _, f := range m.Topic {
		fl = append(fl, fnum(f))
	}
	fmt.Fprintf(bw, "topicthreshold\t%s\n", strings.Join(fl, " "))
	var bs []string
	for _, b := range m.Bias {
		bs = append(bs, fnum(b))
	}
	fmt.Fprintf(bw, "bias\t%s\n", strings.Join(bs, " "))
	feats := make([]string, 0, len(m.weights))
	for f := range m.weights {
		feats = append(feats, f)
	}
	sort.Strings(feats)
	for _, f := range feats {
		var ws []string
		for _, x := range m.weights[f] {
			ws = append(ws, strconv.Itoa(x.topic)+"="+fnum(x.w))
		}
		fmt.Fprintf(bw, "%s\t%s\n", f, strings.Join(ws, " "))
	}
	return bw.Flush()
}

func fnum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// Parse reads a model written by Write; name is used in errors.
func Parse(text, name string) (*Model, error) {
	m := &Model{weights: map[string][]weight{}}
	bad := func(n int, what string, line string) error {
		return fmt.Errorf("%s line %d: %s in %q; regenerate the model with `make train`", name, n, what, truncate(line))
	}
	for n, line := range strings.Split(text, "\n") {
		n++
		if line == "" {
			continue
		}
		if h, ok := strings.CutPrefix(line, "# "); ok {
			m.Header = append(m.Header, h)
			continue
		}
		key, val, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, bad(n, "no tab", line)
		}
		switch key {
		case "topics":
			m.Topics = strings.Fields(val)
		case "threshold":
			t, err := strconv.ParseFloat(val, 64)
			if err != nil || t <= 0 || t >= 1 {
				return nil, bad(n, "threshold not a number between 0 and 1", line)
			}
			m.Threshold = t
		case "topicthreshold":
			for _, s := range strings.Fields(val) {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil || f < 0 || f >= 1 {
					return nil, bad(n, "topic threshold "+strconv.Quote(s)+" not a number from 0 (none) to 1", line)
				}
				m.Topic = append(m.Topic, f)
			}
			if len(m.Topic) != len(m.Topics) {
				return nil, bad(n, fmt.Sprintf("%d topic thresholds for %d topics (the topics line must come first)", len(m.Topic), len(m.Topics)), line)
			}
		case "bias":
			for _, s := range strings.Fields(val) {
				b, err := strconv.ParseFloat(s, 64)
				if err != nil || math.IsNaN(b) || math.IsInf(b, 0) {
					return nil, bad(n, "bias "+strconv.Quote(s)+" not a number", line)
				}
				m.Bias = append(m.Bias, b)
			}
			if len(m.Bias) != len(m.Topics) {
				return nil, bad(n, fmt.Sprintf("%d biases for %d topics (the topics line must come first)", len(m.Bias), len(m.Topics)), line)
			}
		default:
			if len(m.Bias) != len(m.Topics) || len(m.Topics) == 0 {
				return nil, bad(n, "feature before the topics and bias lines", line)
			}
			for _, s := range strings.Fields(val) {
				i, v, ok := strings.Cut(s, "=")
				k, err1 := strconv.Atoi(i)
				x, err2 := strconv.ParseFloat(v, 64)
				if !ok || err1 != nil || err2 != nil || k < 0 || k >= len(m.Topics) || math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, bad(n, "weight "+strconv.Quote(s)+" is not topic=number", line)
				}
				m.weights[key] = append(m.weights[key], weight{k, x})
			}
		}
	}
	if m.Topic == nil {
		m.Topic = make([]float64, len(m.Topics))
	}
	if len(m.Topics) == 0 || len(m.Bias) != len(m.Topics) || m.Threshold == 0 {
		return nil, fmt.Errorf("%s: missing topics, threshold or bias line; regenerate the model with `make train`", name)
	}
	return m, nil
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
