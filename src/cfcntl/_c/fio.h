/* Requests of any file (src/cfcntl/ioctls/fio.py): FIONREAD, FIONBIO, FIOASYNC,
   FIOCLEX, FIONCLEX, all rows of fio.py, so no fio.c. */
#ifndef CFCNTL_FIO_H
#define CFCNTL_FIO_H

#include "cfcntl.h"

#endif
