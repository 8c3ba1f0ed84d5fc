#!/bin/bash
# ulfm_coll_small under -disable-auto-cleanup: see ulfm_run.sh.
exec bash "$(dirname "$0")/ulfm_run.sh"
