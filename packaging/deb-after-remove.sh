#!/bin/bash
# .deb post-remove: drop the launcher link made by deb-after-install.sh.
rm -f '/usr/bin/quantscope'
