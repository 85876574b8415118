# Rows 4 and 5 of bench/compare-ultralytics.ts: runs one of the checkout's scripts (val.py, train.py) as
# `python SCRIPT ARGS` from inside the checkout would, but with torch's intra-op threads set first, so that both tools
# use the same number (torch's own default differs between builds, and utils/general.py only sets OMP_NUM_THREADS,
# after torch has read it).
# Usage: python run.py CHECKOUT THREADS SCRIPT [ARGS...]
import os
import runpy
import sys

import torch

checkout, threads, script, *args = sys.argv[1:]
checkout = os.path.abspath(checkout)
os.chdir(checkout)
sys.path.insert(0, checkout)
torch.set_num_threads(int(threads))
sys.argv = [script, *args]
runpy.run_path(script, run_name='__main__')
