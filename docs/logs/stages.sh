# Sourced by the long-run scripts (docs/logs/<name>/run.sh), run from the repo root as
# `run.sh [STAGE]`: RUNS (default ~/runs) keeps the run folders outside the checkout, `stage N`
# is true for every stage when no STAGE is given, and the start line names the commit.
set -u
RUNS=${RUNS:-$HOME/runs}
ONLY=${1:-}
stage() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
finished() { echo "== done ${ONLY:+stage $ONLY }$(date -u)"; }
# --recorded=CSV once the sweep's committed CSV exists (before its first run there is none), so
# that on a machine laid anew (no $RUNS) a sweep skips the runs the repo already records.
recorded() { if [ -f "$1" ]; then echo "--recorded=$1"; fi; }
echo "== start ${ONLY:+stage $ONLY }$(date -u) $(git rev-parse --short HEAD)"
