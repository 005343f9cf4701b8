/* Subcommands: `accel-top bench ...`, `accel-top report ...`, `accel-top serve --stdio`,
 * `accel-top doctor ...`, `accel-top tune ...`. Each returns the exit code. */
#ifndef AC_COMMANDS_H
#define AC_COMMANDS_H

int cmd_bench(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_tune(int argc, char **argv);

#endif
