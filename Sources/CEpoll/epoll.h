// Glibc's Swift module leaves out <sys/epoll.h>; spout-bench's receiving loop needs it to watch thousands of sockets.
#include <sys/epoll.h>
