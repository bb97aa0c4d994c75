#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the test images the suite boots into the image cache (CLOUDTIME_IMAGE_CACHE) ahead of
the tests. scripts/test.sh starts it in the background while the lint runs (building is mostly
waiting for debootstrap's downloads, dpkg and the disk) and waits for it before the tests; a
test finds the images cached, or builds what is missing itself and reports why it could not."""

import os
import sys
import time

import test_validate_image

if __name__ == "__main__":
    if os.geteuid() != 0:
        print("prepare_images: not root, nothing built (the image tests will say so)")
        sys.exit(0)
    start = time.monotonic()
    try:
        paths = test_validate_image.build_images()
    except AssertionError as e:  # the image tests build again and fail with the reason
        print(f"prepare_images: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"prepare_images: {len(paths)} images ready in {time.monotonic() - start:.0f} s")
