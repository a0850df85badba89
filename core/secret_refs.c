/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder */
#include "config.h"
