#include "rhei.h"
int main(void) { return 0; }
