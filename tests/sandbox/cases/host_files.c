/*
 * host_files.c - reaches for host secrets and state.  Exit 0 only if none
 * can be read; prints whatever could.
 * expect: verdict=ok exit_code=0 #stdout=0 reaped=true
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	static const char *const files[] = {
		"/etc/shadow", "/etc/gshadow", "/proc/1/environ", "/proc/1/mem",
		"/proc/1/root/etc/shadow", "/proc/1/cwd", "/proc/kcore",
		"/proc/kmsg", "/proc/sysrq-trigger", "/dev/vda", "/dev/sda",
		"/dev/mem", "/dev/kmsg", "/dev/tty", "/oldroot/etc/passwd",
		"/sys/kernel/notes", "/root/.bashrc", "/etc/ssh/ssh_host_rsa_key",
	};
	static const char *const dirs[] = {
		"/root", "/home", "/work", "/var/lib/postgresql", "/run",
		"/run/cohort-sandbox", "/sys/fs/cgroup", "/oldroot", "/mnt",
		"/proc/1/root/root", "/var/lib/cohortd",
	};
	char buf[16];
	int got = 0, fd;

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		if ((fd = open(files[i], O_RDONLY | O_NONBLOCK)) >= 0 &&
		    read(fd, buf, sizeof(buf)) > 0) {
			printf("read %s\n", files[i]);
			got++;
		}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		DIR *d = opendir(dirs[i]);

		if (d != NULL && readdir(d) != NULL) {
			printf("listed %s\n", dirs[i]);
			got++;
		}
	}
	return got;
}
