/**
 * The main job (placeholder until the `stream` and `http` packages land): prints what is built.
 */
process.stdout.write("chime-rooms: workspace built. The main job arrives with the stream and http packages.\n")
