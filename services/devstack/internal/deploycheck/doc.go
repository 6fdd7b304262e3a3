// Package deploycheck holds the deployment files to the code: its tests
// decode the compose file and every Kubernetes manifest strictly, build
// each kustomize overlay, and check that every environment variable,
// port, probe path and mounted file they use is one the services really
// read or serve.
package deploycheck
