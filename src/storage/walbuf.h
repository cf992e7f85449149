/* A VFS over SQLite's default one that writes each WAL commit with one
 * system call instead of two per page (see walbuf.c for how it keeps every
 * commit in the file before SQLite makes it visible). */
#ifndef LAS_STORAGE_WALBUF_H
#define LAS_STORAGE_WALBUF_H

#include <stdbool.h>

/* Registers the VFS as SQLite's default, once; connections opened after
 * this use it. False when it could not be registered (SQLite's own VFS is
 * then used, which is correct, only slower). */
bool walbuf_install(void);

#endif
