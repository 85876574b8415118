# Row 1 of bench/compare-ultralytics.ts: one decoded frame to the float network input as ultralytics' detect.py makes
# it — utils/augmentations.py letterbox (auto, stride 32) in LoadImages, transpose to CHW and BGR→RGB,
# ascontiguousarray, then torch.from_numpy(...).float() / 255 with a batch axis.
import argparse

import numpy as np
import torch

from timing import report, time_ms, use_checkout

parser = argparse.ArgumentParser()
parser.add_argument('--checkout', required=True)
parser.add_argument('--frame', required=True, help='raw RGB bytes, height × width × 3')
parser.add_argument('--width', type=int, required=True)
parser.add_argument('--height', type=int, required=True)
parser.add_argument('--imgsz', type=int, default=640)
parser.add_argument('--threads', type=int, required=True)
parser.add_argument('--warmup', type=int, default=10)
parser.add_argument('--iters', type=int, default=100)
opt = parser.parse_args()

use_checkout(opt.checkout)
# Importing it runs utils/general.py, which sets cv2.setNumThreads(0) as it does in every ultralytics run.
from utils.augmentations import letterbox  # noqa: E402

torch.set_num_threads(opt.threads)
# cv2.imread gives BGR: the same frame as the yolov5-ts side decodes, in OpenCV's channel order.
frame = np.fromfile(opt.frame, dtype=np.uint8).reshape(opt.height, opt.width, 3)[:, :, ::-1].copy()


def preprocess():
    im = letterbox(frame, opt.imgsz, stride=32, auto=True)[0]
    im = im.transpose((2, 0, 1))[::-1]
    im = np.ascontiguousarray(im)
    im = torch.from_numpy(im).float()
    im /= 255
    return im[None]


times = time_ms(preprocess, opt.warmup, opt.iters)
report(times, shape=list(preprocess().shape), threads=torch.get_num_threads())
