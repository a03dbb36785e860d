/*
 * The commands, one entry point each, called only by main.c: deliver.c
 * (deliver, filter), scan.c (scan, explain), expire.c (expire, junk,
 * restore), learn.c (learn, check-rules), checkconfig.c (check-config),
 * record.c (record, sendmail).
 * No command module includes or calls another's.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

int	 cmd_deliver(int, char **);
int	 cmd_filter(int, char **);
int	 cmd_scan(int, char **);
int	 cmd_explain(int, char **);
int	 cmd_expire(int, char **);
int	 cmd_junk(int, char **);
int	 cmd_restore(int, char **);
int	 cmd_learn(int, char **);
int	 cmd_check_rules(int, char **);
int	 cmd_check_config(int, char **);
int	 cmd_record(int, char **);
int	 cmd_sendmail(int, char **);

#endif
