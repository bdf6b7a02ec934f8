#!/usr/bin/env bash
# Runs Nära's benchmarks against the real `nara serve` binary and writes their
# figures to bench/results/ (see /work/shared/BENCHMARKING.md for how to read
# them). Each benchmark starts and stops everything it needs, on 127.0.0.1.
#
#   bench/run.sh             every benchmark (make bench)
#   bench/run.sh faq         FAQ search throughput with wrk  -> bench/results/faq.txt
#   bench/run.sh coldstart   cold start and restart          -> bench/results/coldstart.txt
#   bench/run.sh login       login storm against the BankID simulator (about 5 min) -> bench/results/login.txt
#   bench/run.sh push        100 000 reminders due at one moment and spread over a minute, to the FCM stand-in, and a SIGKILL crash test (about 15 min) -> bench/results/push.txt
#   bench/run.sh booking     20 000 citizens race for 2 000 vaccination times, no overbooking (about 6 min) -> bench/results/booking.txt
#   bench/run.sh applist     ListAppointments over 1 million citizens and 5 million appointments (about 8 min; the
#                            seeded cluster is kept in /var/tmp/nara-bench/applist) -> bench/results/applist.txt
#   bench/run.sh support     10 000 open case streams at 500 messages/s on one node and across two replicas, memory
#                            per stream, and 5 000 inbound e-mails over SMTP (about 5 min) -> bench/results/support.txt;
#                            flags after "support" go to bench/supportlive, e.g. a small trial on a busy machine:
#                            bench/run.sh support -streams 500 -rate 50 -duration 20s -mails 500 -out /tmp/support.txt
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-all}
case "$which" in
all | faq | coldstart | login | push | booking | applist | support) ;;
*)
	echo "usage: bench/run.sh [all|faq|coldstart|login|push|booking|applist|support]" >&2
	exit 2
	;;
esac

# wrk drives the HTTP load: it needs far less CPU than a Go client, which
# matters when it shares 2 cores with the server and PostgreSQL.
if [[ "$which" != coldstart && "$which" != push && "$which" != booking && "$which" != support ]] && ! command -v wrk >/dev/null 2>&1; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	echo "installing wrk (apt-get install wrk)" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
./scripts/install-deps.sh --check

# Build everything first, so that no compiler competes with the measurements.
tmp=$(mktemp -d -t nara-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The results name the source that was built, which others may change while
# the benchmarks run.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain)" ]; then
	commit="$commit (working tree with uncommitted changes)"
fi
go build -o "$tmp/nara" ./cmd/nara
go build -o "$tmp/faqbench" ./bench/faqbench
go build -o "$tmp/coldstart" ./bench/coldstart
go build -o "$tmp/loginstorm" ./bench/loginstorm
go build -o "$tmp/bankidsimd" ./bench/bankidsimd
go build -o "$tmp/pushbench" ./bench/pushbench
go build -o "$tmp/bookingrush" ./bench/bookingrush
go build -o "$tmp/applist" ./bench/applist
go build -o "$tmp/supportlive" ./bench/supportlive

if [[ "$which" == all || "$which" == faq ]]; then
	"$tmp/faqbench" -nara "$tmp/nara" -commit "$commit" -out bench/results/faq.txt
fi
if [[ "$which" == all || "$which" == coldstart ]]; then
	"$tmp/coldstart" -nara "$tmp/nara" -commit "$commit" -out bench/results/coldstart.txt
fi
if [[ "$which" == all || "$which" == login ]]; then
	"$tmp/loginstorm" -nara "$tmp/nara" -bankidsimd "$tmp/bankidsimd" -commit "$commit" -out bench/results/login.txt
fi
if [[ "$which" == all || "$which" == push ]]; then
	"$tmp/pushbench" -nara "$tmp/nara" -commit "$commit" -out bench/results/push.txt
	# The issue's "due at the same minute": the same 100 000 spread over it.
	"$tmp/pushbench" -nara "$tmp/nara" -commit "$commit" -out bench/results/push.txt -spread
fi
if [[ "$which" == all || "$which" == booking ]]; then
	"$tmp/bookingrush" -nara "$tmp/nara" -commit "$commit" -out bench/results/booking.txt
fi
if [[ "$which" == all || "$which" == applist ]]; then
	"$tmp/applist" -nara "$tmp/nara" -wrk wrk -commit "$commit" -out bench/results/applist.txt
fi
if [[ "$which" == all || "$which" == support ]]; then
	# Flags given after "support" (a smaller trial, another -out) come last and win.
	"$tmp/supportlive" -nara "$tmp/nara" -commit "$commit" -out bench/results/support.txt "${@:2}"
fi
