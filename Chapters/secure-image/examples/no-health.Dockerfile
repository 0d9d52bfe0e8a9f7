# Nothing to find, and nothing that works: the gate fails, so the score is 0.
FROM gcr.io/distroless/static-debian12:nonroot
COPY web /web
USER nonroot
