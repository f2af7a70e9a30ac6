/* cmd: the volsurf subcommands (host/cmd_*.c), dispatched by main.c.  Each
 * takes the arguments after its name and returns the process exit code:
 * 0 success, 1 runtime failure, 2 usage error. */
#ifndef VOLSURF_CMD_H
#define VOLSURF_CMD_H

int cmd_fit(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_svi(int argc, char **argv);
/* Service commands: built only with feeds/ and gateway/ (see CMakeLists);
 * replay needs only the core and is always built. */
int cmd_serve(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif
