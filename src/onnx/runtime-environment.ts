/**
 * Imported by every module that imports onnxruntime-node, as its first import, so it is evaluated before the library
 * loads (test/architecture.test.ts checks the order). The shared library of onnxruntime 1.30 carries Microsoft's 1DS
 * telemetry client (an HTTPS uploader; it also leaves an empty `mat-debug-<pid>.log` and a `.ses` file in /tmp for
 * every process that opens a session). A command-line tool run in batch jobs on users' data sends nothing anywhere
 * and leaves nothing behind: `ORT_DISABLE_TELEMETRY` is set, unless the user set it.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
