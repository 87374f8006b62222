// Placeholder so the library links while the core is written (issue 14).
#include "raft/raft.h"
