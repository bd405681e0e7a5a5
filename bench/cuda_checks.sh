#!/usr/bin/env bash
# The CUDA checks of issue #5 in one run, for a machine with a GPU and no network (the device
# machine some sessions are lent: its python3 holds a CUDA torch, pytest, setuptools, pluggy,
# click, numpy, tqdm, sacrebleu, but not importlib-metadata, and its setuptools may predate the
# 77 that the license field needs). It installs this tree beside that torch, runs the tests that
# exercise CUDA there (training with the CUDA-only ones, evaluation and the plug-ins, with the
# device picked by default), then the bf16 MFU bench of
# transformer_wmt_en_de, which rewrites the "mfu" section of bench/RESULTS.md, then issue #22's
# GPU row of decoding (bench_generate.py's section gpu: bf16, batches of 128, beam 5, against the
# card's peak). Logs and the rewritten RESULTS.md go to $OUT (the device tool's folder that comes
# back) or ./out-cuda.
#
# Beforehand, where pip reaches PyPI, from the repository root (.whl/ is then carried along):
#   python -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl \
#       importlib-metadata zipp 'setuptools>=77'
#   echo /.whl/ >> .git/info/exclude
# Then: bash bench/cuda_checks.sh    (the tests are cut at 5.5 minutes, the MFU bench at 2.5 and
# the decoding row at 1, so the whole stays inside the device tool's 10 minutes a command). Never
# run on a GPU so far.
set -uo pipefail
out=${OUT:-out-cuda}
mkdir -p "$out"
python3 -m pip install -q --no-deps --no-index .whl/*.whl
python3 -m pip install -q --no-deps --no-build-isolation -e ./core -e ./plugins/transformer \
    -e ./plugins/adam -e ./plugins/lstm ./tests/fixtures/seqcore-plugin-toy
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())' \
    | tee -a "$out/gpu.txt"
timeout 330 python3 -m pytest -q -rs tests/core/training tests/core/evaluation tests/plugins \
    -k "not moses" 2>&1 | tee "$out/tests.log" | tail -40
timeout 150 python3 bench/bench_mfu.py --arch transformer_wmt_en_de --precision bf16 \
    2>&1 | tee "$out/mfu.log"
timeout 60 python3 bench/bench_generate.py --sections gpu --repeats 1 2>&1 | tee "$out/generate-gpu.log"
cp bench/RESULTS.md "$out/RESULTS.md"
