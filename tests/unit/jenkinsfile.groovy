// Reads a declarative Jenkinsfile with Groovy's own parser (a syntax error fails here as it
// would in Jenkins) and runs it against a stand-in for Jenkins' pipeline DSL that only records
// each call: prints them as JSON, [name, [arguments], [calls in its block]] each.
//   groovy jenkinsfile.groovy Jenkinsfile
import groovy.json.JsonOutput
import org.codehaus.groovy.control.CompilerConfiguration

class Recorder {
    List calls = []

    def methodMissing(String name, Object args) {
        List given = args as List
        Recorder inner = new Recorder()
        Closure block = given.find { it instanceof Closure }
        if (block) {
            block.delegate = inner
            block.resolveStrategy = Closure.DELEGATE_FIRST
            block()
        }
        calls << [name, given.findAll { !(it instanceof Closure) }, inner.calls]
        null
    }

    def propertyMissing(String name) { name }  // `agent any`: the word itself
}

def config = new CompilerConfiguration()
config.scriptBaseClass = DelegatingScript.name
DelegatingScript script = (DelegatingScript) new GroovyShell(config).parse(new File(args[0]))
Recorder top = new Recorder()
script.setDelegate(top)
script.run()
println JsonOutput.toJson(top.calls)
