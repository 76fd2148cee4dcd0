#include <stdio.h>
int main(void)
{
    puts("csvpipe");
    return 0;
}
