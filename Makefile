# Shortcuts for the commands in README.md. Every target is plain cargo underneath.
CARGO ?= cargo
IVY = $(CARGO) run --release -q -p ivy-cli --

.PHONY: run r w r-ft w-ft netns-demo test fmt lint unit bench bench-report managers sweep

## make run: the default basic run (3 processes, 5 pages, 50 mixed requests)
run:
	$(IVY) basic

## make r: 100 random reads by 10 processes over 100 pages (the reference's test)
r:
	$(IVY) basic --processes 10 --pages 100 --requests 100 --ops read

## make w: 100 random writes by 10 processes over 100 pages (the reference's test)
w:
	$(IVY) basic --processes 10 --pages 100 --requests 100 --ops write

## make r-ft: the same reads with the fault-tolerant managers; the primary is killed
## at request 30 and revived at request 60 (it rejoins and takes its role back)
r-ft:
	$(IVY) ft --processes 10 --pages 100 --requests 100 --ops read --kill-primary-at 30 --revive-primary-at 60

## make w-ft: the same writes, with the same kill and revival
w-ft:
	$(IVY) ft --processes 10 --pages 100 --requests 100 --ops write --kill-primary-at 30 --revive-primary-at 60

## make netns-demo: (as root) every node an OS process in its own network namespace,
## joined by a bridge; the primary's link is cut at request 80 and restored at 200
netns-demo:
	$(IVY) cluster ft --netns --processes 3 --requests 300 --cut-primary-at 80 --restore-link-at 200

## make test: the whole suite, exactly as CI runs it
test: fmt lint unit

fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

## make sweep: a long randomised run (IVY_SEEDS=10000 by default)
sweep:
	IVY_SEEDS=$${IVY_SEEDS:-10000} PROPTEST_CASES=$${PROPTEST_CASES:-2000} $(CARGO) test --release --workspace

## make bench: the criterion suites
bench:
	$(CARGO) bench -p ivy-benches
	$(CARGO) bench -p ivy-net --bench tcp
	$(CARGO) bench -p ivy-cli --bench cluster

## make managers: count and time every manager algorithm of Li & Hudak, then rewrite
## BENCHMARKS.md's manager section and docs/bench/messages-per-fault.svg
managers:
	$(CARGO) bench -p ivy-benches --bench managers
	$(CARGO) run -q -p ivy-benches --bin bench-report -- --managers

## make bench-report: rewrite the tables of BENCHMARKS.md from criterion's results
bench-report:
	$(CARGO) run -q -p ivy-benches --bin bench-report
