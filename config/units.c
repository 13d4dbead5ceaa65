/* SPDX-License-Identifier: Apache-2.0 */
/* units: implementation lands with the config module. */
#include "units.h"
