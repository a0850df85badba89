/* SPDX-License-Identifier: Apache-2.0 */
/* Log levels a plugin passes to the host's log function. */
#ifndef OUTRIG_LOG_H
#define OUTRIG_LOG_H

/* Same names and order as daprd's --log-level. */
enum outrig_log_level {
	OUTRIG_LOG_DEBUG = 0,
	OUTRIG_LOG_INFO = 1,
	OUTRIG_LOG_WARN = 2,
	OUTRIG_LOG_ERROR = 3,
	OUTRIG_LOG_FATAL = 4,
};

#endif /* OUTRIG_LOG_H */
