# Sourced by the long-run scripts (tutorial/, fast/, beyond/ run.sh), run from the repo root as
# `run.sh [STAGE]`: RUNS (default ~/runs) keeps the run folders outside the checkout, `stage N`
# is true for every stage when no STAGE is given, and the start line names the commit.
set -u
RUNS=${RUNS:-$HOME/runs}
ONLY=${1:-}
stage() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
finished() { echo "== done ${ONLY:+stage $ONLY }$(date -u)"; }
echo "== start ${ONLY:+stage $ONLY }$(date -u) $(git rev-parse --short HEAD)"
