# Setup check for bench/compare-ultralytics.ts: prints the versions it reports as one JSON line, or fails with the
# import that is missing.
import json
import os
import sys

import cv2
import numpy
import torch
import torchvision

from timing import use_checkout

checkout = sys.argv[1]
use_checkout(checkout)
for script in ('val.py', 'train.py'):
    if not os.path.isfile(os.path.join(checkout, script)):
        sys.exit(f'{checkout}: {script} is missing')
# The modules the timing scripts use; importing them also checks the packages the checkout needs (yaml, pandas, ...).
import models.experimental  # noqa: E402,F401
import utils.augmentations  # noqa: E402,F401
import utils.dataloaders  # noqa: E402,F401

print(json.dumps({
    'python': sys.version.split()[0],
    'torch': torch.__version__,
    'torchvision': torchvision.__version__,
    'opencv': cv2.__version__,
    'numpy': numpy.__version__,
}))
