# Rows 4 and 5 of bench/compare-ultralytics.ts: runs one of the checkout's scripts (val.py, train.py) as
# `python SCRIPT ARGS` from inside the checkout would, but with torch's intra-op threads set first, so that both tools
# use the same number (torch's own default differs between builds, and utils/general.py only sets OMP_NUM_THREADS,
# after torch has read it).
# Its check_dataset fetches the Arial.ttf font into the config folder (YOLOV5_CONFIG_DIR) each run until it is there,
# and fails offline; the font only draws plot labels, so a folder of the bench's own gets matplotlib's DejaVu Sans
# under that name instead (no download in the timed command, online or not).
# Usage: python run.py CHECKOUT THREADS SCRIPT [ARGS...]
import os
import runpy
import shutil
import sys

import types

import torch


def stand_in(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


# train.py imports two packages Debian 12 does not ship (or the setup left out) for logging alone: TensorBoard, whose
# event files it writes, and gitpython, to record the checkout's commit. Without them it gets stand-ins that write
# nothing and find no git repository (as in a tarball checkout); the training itself is untouched.
try:
    import torch.utils.tensorboard  # noqa: F401
except ImportError:
    class SummaryWriter:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    stand_in('torch.utils.tensorboard', SummaryWriter=SummaryWriter)
try:
    import git  # noqa: F401
except ImportError:
    class InvalidGitRepositoryError(Exception):
        pass

    def repo(path='.'):
        raise InvalidGitRepositoryError(path)

    stand_in('git', Repo=repo, exc=stand_in('git.exc', InvalidGitRepositoryError=InvalidGitRepositoryError))

checkout, threads, script, *args = sys.argv[1:]
config = os.environ.get('YOLOV5_CONFIG_DIR')
if config:
    import matplotlib

    os.makedirs(config, exist_ok=True)
    for name in ('Arial.ttf', 'Arial.Unicode.ttf'):
        if not os.path.exists(os.path.join(config, name)):
            shutil.copy(os.path.join(matplotlib.get_data_path(), 'fonts', 'ttf', 'DejaVuSans.ttf'), os.path.join(config, name))

checkout = os.path.abspath(checkout)
os.chdir(checkout)
sys.path.insert(0, checkout)
torch.set_num_threads(int(threads))
sys.argv = [script, *args]
runpy.run_path(script, run_name='__main__')
