# Rows 2 and 3 of bench/compare-ultralytics.ts: the network alone, as ultralytics runs it in detect.py and val.py —
# models/experimental.py attempt_load(weights, fuse=True) (BatchNorm folded, eval mode), an eager forward under
# torch.no_grad() with its decoded output, on an input tensor made once.
import argparse

import numpy as np
import torch

from timing import report, time_ms, use_checkout

parser = argparse.ArgumentParser()
parser.add_argument('--checkout', required=True)
parser.add_argument('--weights', required=True)
parser.add_argument('--input', required=True, help='float32 network input, raw, of --shape')
parser.add_argument('--shape', required=True, help='batch,channels,height,width')
parser.add_argument('--threads', type=int, required=True)
parser.add_argument('--warmup', type=int, default=3)
parser.add_argument('--iters', type=int, default=20)
opt = parser.parse_args()

use_checkout(opt.checkout)
from models.experimental import attempt_load  # noqa: E402

torch.set_num_threads(opt.threads)
model = attempt_load(opt.weights, device=torch.device('cpu'), inplace=True, fuse=True)
shape = [int(n) for n in opt.shape.split(',')]
x = torch.from_numpy(np.fromfile(opt.input, dtype=np.float32).reshape(shape))

with torch.no_grad():
    times = time_ms(lambda: model(x), opt.warmup, opt.iters)
report(times, shape=shape, threads=torch.get_num_threads())
