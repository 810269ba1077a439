# digest — common tasks. Every target works on a fresh machine with Go installed.
GO ?= go

.PHONY: build test race lint demo bench fuzz mutate clean mailcheck eval train

# Build the binary into ./bin/digest.
build:
	$(GO) build -o bin/digest ./cmd/digest

# Run every test (PostgreSQL tests run when DIGEST_TEST_POSTGRES is set).
test:
	$(GO) test ./...

# Run every test with the race detector (needs a C compiler), as CI does.
race:
	$(GO) test -race ./...

# Vet and staticcheck the code.
lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Run the main job on the embedded default (SQLite, .eml files) and show what it did.
demo:
	$(GO) run ./cmd/digest demo

# Measure one weekly edition for 100,000 subscribers on PostgreSQL (DIGEST_BENCH_POSTGRES; BENCH_ARGS; see BENCHMARKS.md).
bench:
	$(GO) run ./cmd/digestbench $(BENCH_ARGS)

# Score a real 30-article digest and the confirmation mail with mailpit's email-client check (installs mailpit v1.33.1 if missing; loopback only).
MAILPIT ?= $(shell command -v mailpit || echo $$($(GO) env GOPATH)/bin/mailpit)
mailcheck:
	@test -x "$(MAILPIT)" || $(GO) install github.com/axllent/mailpit@v1.33.1
	DIGEST_MAILCHECK=1 DIGEST_MAILPIT="$(MAILPIT)" $(GO) test -count=1 -run '^TestMailcheck$$' -v ./cmd/digest
# Score the tagger on the labelled corpora: frozen test split, dev, train, tagging.tsv (articles/testdata/corpus).
eval:
	$(GO) run ./articles/internal/evaltag -commit "$$(git rev-parse --short HEAD 2>/dev/null)$$(git diff --quiet HEAD 2>/dev/null || echo +uncommitted)"

# Retrain the topic model articles/model/topics.tsv from the corpus train split (deterministic; never reads test.tsv).
train:
	$(GO) run ./articles/internal/traintopics -source "$$(git log -1 --format=%h -- articles/testdata/corpus/train.tsv 2>/dev/null)"

# Run each fuzz target for 30 seconds (FUZZTIME=2m for longer).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Mutation testing of digest, subscribers and mailer: each mutation of internal/mutate/mutations.txt
# against its package's tests in a temporary copy; prints the score and the survivors (slow; not in CI).
mutate:
	$(GO) run ./internal/mutate $(MUTATE_ARGS)

# Remove build output and demo files.
clean:
	rm -rf bin outbox demo digest.db digest.db-wal digest.db-shm
