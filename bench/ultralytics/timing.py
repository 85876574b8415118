# Shared by the timing scripts of bench/compare-ultralytics.ts: puts an ultralytics/yolov5 checkout on the import
# path, and times a function the same way the yolov5-ts side does (warm-up runs, then timed runs, one JSON line).
import json
import os
import statistics
import sys
import time


def use_checkout(path):
    """Makes the checkout's packages (models, utils) importable, as its own scripts do from their folder."""
    path = os.path.abspath(path)
    if not os.path.isfile(os.path.join(path, 'models', 'experimental.py')):
        sys.exit(f'{path}: not an ultralytics/yolov5 checkout (models/experimental.py is missing)')
    sys.path.insert(0, path)


def time_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(times, **extra):
    # The last line of stdout is the result: the checkout's logger writes to stderr, but a print elsewhere must not
    # break the parse.
    print(json.dumps({'median': statistics.median(times), 'min': min(times), 'iters': len(times), **extra}), flush=True)
