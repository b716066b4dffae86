#!/bin/bash
# The long runs, one heavy job at a time, in the order the open issues need them. Restart it
# after a lost session: every sweep skips finished runs and resumes the unfinished one.
#   nohup docs/logs/queue.sh >> ~/runs/queue.log 2>&1 &
cd "$(dirname "$0")/../.."
docs/logs/tutorial/run.sh >> "${RUNS:-$HOME/runs}/tutorial.log" 2>&1
docs/logs/quick_seed2/run.sh >> "${RUNS:-$HOME/runs}/quick_seed2.log" 2>&1
docs/logs/beyond/run.sh >> "${RUNS:-$HOME/runs}/beyond.log" 2>&1
