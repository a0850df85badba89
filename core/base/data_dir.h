/* SPDX-License-Identifier: Apache-2.0 */
/* outrigd's data folder (--data-dir): the embedded store's database and plugins' own files. */
#ifndef OUTRIG_CORE_DATA_DIR_H
#define OUTRIG_CORE_DATA_DIR_H

/*
 * The folder: flag (--data-dir) when given, else $XDG_DATA_HOME/outrig, else
 * ~/.local/share/outrig. Returns a malloc'd path, or NULL when out of memory.
 */
char *data_dir_path(const char *flag);

/* mkdir -p path (mode 0700 for what it creates). Returns 0, or -1 with errno set. */
int data_dir_make(const char *path);

#endif /* OUTRIG_CORE_DATA_DIR_H */
