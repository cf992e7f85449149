/* How the server runs transitions: the docker mode and its commands (server
 * settings), the engine jobs of executions (heartbeat timeouts, docker
 * completions, command launches) and the runner of command mode. main.c
 * calls these in order: transitions_configure, transitions_start (before
 * engine_start), transitions_set_endpoints (once the HTTP server listens),
 * transitions_stop (after the engine stopped). */
#ifndef LAS_RESOURCES_TRANSITION_RUNTIME_H
#define LAS_RESOURCES_TRANSITION_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

/* What happens to an execution of a docker transition:
 *   auto      the engine completes it after --processing-delay-ms,
 *             output = input (default)
 *   external  nothing: it runs until a client PATCHes it (or times out)
 *   command   the mapped local program runs for it (see transition_docker.c) */
typedef enum {
  TRANSITIONS_DOCKER_AUTO,
  TRANSITIONS_DOCKER_EXTERNAL,
  TRANSITIONS_DOCKER_COMMAND
} transitions_docker_mode;

/* Reads the settings: mode "auto", "external" or "command"; `commands`,
 * IMAGE=COMMAND lines separated by newlines (--docker-command, may be
 * empty); `commands_file`, the path of a JSON object {"IMAGE": "COMMAND"}
 * (--docker-commands, may be empty). A line wins over the file for the
 * same image; "*" maps every image without a mapping of its own. false
 * with a reason naming the flag. */
bool transitions_configure(const char *mode, const char *commands,
                           const char *commands_file, char *err, size_t errlen);
transitions_docker_mode transitions_mode(void);

/* Registers the jobs with the engine and starts the runner thread. */
bool transitions_start(char *err, size_t errlen);
/* The API and auth endpoints a command is told (LAS_API_ENDPOINT,
 * LAS_AUTH_ENDPOINT); commands wait for them to be known. */
void transitions_set_endpoints(const char *api_endpoint,
                               const char *auth_endpoint);
/* A certificate file commands are told to trust for the endpoints above
 * (REQUESTS_CA_BUNDLE, for the official Python SDK, and CURL_CA_BUNDLE),
 * unless the transition's environment names them itself: the emulator's
 * self-signed certificate when it serves HTTPS. */
void transitions_set_ca_file(const char *path);
/* Kills running commands and stops the runner. */
void transitions_stop(void);

#endif
