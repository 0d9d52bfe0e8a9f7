import Foundation
import HandsOnKit

exit(await HandsOnCLI.main())
