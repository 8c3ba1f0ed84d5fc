/* ulfm_coll with the blocking collectives of small messages too (coll::shm's path). */
#define ULFM_COLL_SMALL 1
#define ULFM_COLL_NAME "ulfm_coll_small"
#include "ulfm_coll.c"
