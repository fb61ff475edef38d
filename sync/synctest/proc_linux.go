package synctest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill the child when the test process
// dies, so a killed or crashed go test leaves no server holding a port.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
