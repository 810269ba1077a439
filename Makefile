# digest — common tasks. Every target works on a fresh machine with Go installed.
GO ?= go

.PHONY: build test race lint demo bench eval fuzz clean

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

# Score the tagger on the labelled corpora: frozen test split, dev, train, tagging.tsv (articles/testdata/corpus).
eval:
	$(GO) run ./articles/internal/evaltag -commit "$$(git rev-parse --short HEAD 2>/dev/null)$$(git diff --quiet HEAD 2>/dev/null || echo +uncommitted)"

# Run each fuzz target for 30 seconds (FUZZTIME=2m for longer).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Remove build output and demo files.
clean:
	rm -rf bin outbox demo digest.db digest.db-wal digest.db-shm
