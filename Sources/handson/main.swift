import Foundation
import HandsOnEngine
import HandsOnKit

exit(await HandsOnCLI.main())
