/* SPDX-License-Identifier: Apache-2.0 */
/* cfg: implementation lands with the config module. */
#include "cfg.h"
