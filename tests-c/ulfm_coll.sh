#!/bin/bash
# ulfm_coll under -disable-auto-cleanup: see ulfm_run.sh.
exec bash "$(dirname "$0")/ulfm_run.sh"
