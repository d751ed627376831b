/* main: the resource-manager binary; parses argv and hands over to the command table. */
#include "rm/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
