// The eight Linux namespaces, as the engine creates them and the dashboard names them. Plain data
// with no Node or browser API in it: the one place both the server and the page take values from
// (the dashboard imports only types from server/).

export const NAMESPACES = ['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** One line each, for the form's switches and the diagrams' legends. */
export const NAMESPACE_ISOLATES: Record<Namespace, string> = {
  pid: 'process IDs: the container sees its own PID 1 and none of the host processes',
  mnt: 'the mount table: its own root filesystem, /proc and /dev',
  net: 'network devices, addresses, routes, ports and firewall rules',
  uts: 'hostname and NIS domain name',
  ipc: 'System V IPC objects and POSIX message queues',
  user: 'user and group IDs: root inside maps to an unprivileged uid outside',
  cgroup: 'the view of the cgroup tree: /proc/self/cgroup shows the container cgroup as /',
  time: 'CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets (uptime can differ from the host)',
};
