/* Terminals and pseudo-terminals (src/cfcntl/ioctls/tty.py): TIOCGWINSZ here, the
   pattern requests (TIOCGPTN, TIOCEXCL, TIOCSWINSZ...) as rows of tty.py. */
#ifndef CFCNTL_TTY_H
#define CFCNTL_TTY_H

#include "cfcntl.h"

/* cdef-only:
struct winsize { unsigned short ws_row; unsigned short ws_col;
                 unsigned short ws_xpixel; unsigned short ws_ypixel; ...; };
*/

/* cdef: begin */
/* TIOCGWINSZ: the four fields packed into one uint64_t, ws_row in the low 16 bits;
   cfcntl.h's 64-bit alternative of the protocol. */
uint64_t cf_get_winsize(int fd);
/* cdef: end */

#endif
